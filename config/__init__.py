"""The project's composition: the URL tree that mounts each app's pages and
API. The only package that may import every app; none imports it."""
