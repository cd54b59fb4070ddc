"""Pages of requests (诉求)."""

from service.web.pages import page_router

router = page_router()
