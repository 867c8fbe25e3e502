"""The admin pages: server-rendered with aiohttp-jinja2, enhanced by small vanilla JS modules
(static/js/) that follow runs live over /api/events. One module per page; `routes` wires them."""
