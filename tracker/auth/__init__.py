"""Who is asking: the Viewer of a session cookie or of an API token, built by one function, and the guards that
routers put in front of their pages. Above accounts (users, roles, sessions) and partners (whose contacts a person
may be), below every domain that reads a Viewer."""
