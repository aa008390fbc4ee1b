"""The search layer every app searches through; see ``servicedesk.search.engine``."""
