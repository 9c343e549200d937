"""The entry points: the JSON API, pages, realtime sockets, the command line and the server."""
