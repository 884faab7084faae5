"""Pure renderers: plans, status and problems to text, markdown, JSON and annotations."""
