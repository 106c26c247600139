"""Survey domain: questionnaire, models, forms, import, operations."""
