"""The API's routes, one module per kind of resource; each is a thin layer over `web.service`."""
