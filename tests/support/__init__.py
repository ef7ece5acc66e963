"""Helpers shared by the test folders: the live-server runner and the browser's location."""
