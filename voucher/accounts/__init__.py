"""Users, roles, login, passwords and invitations."""
