"""The GraphQL schema: Strawberry types, inputs, enums, errors and permissions, one module per
domain; ``schema.root`` assembles the ``Schema``."""
