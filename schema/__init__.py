"""The GraphQL schema: Strawberry types, inputs, enums, errors and permissions, one package per
domain (``shared`` for what they all use); ``schema.root`` assembles the ``Schema``."""
