"""What every schema domain uses: ids, enums, errors and messages, permissions, pagination,
extensions and validation rules."""
