"""User accounts, roles and sign-in shared by every web page of the platform."""
