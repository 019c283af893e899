"""The three roles, as Django groups. Their permissions are granted by migrations
(accounts/migrations), so every database has the same roles."""

PROJECT_MANAGERS = "Project managers"
ENGINEERS = "Engineers"
CATALOG_ADMINS = "Catalog admins"

ROLES = (PROJECT_MANAGERS, ENGINEERS, CATALOG_ADMINS)
