"""The pages: the enterprise portal, the bank view and the office dashboard, rendered on the
server (Jinja2) over the same use cases and authorization as the API."""
