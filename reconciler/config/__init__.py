"""Pipeline configuration: pydantic models, YAML loading with positions, JSON Schema."""
