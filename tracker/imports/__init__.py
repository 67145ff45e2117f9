"""Importing a roadmap from a spreadsheet: the workshop's XLSX or CSV, or a roadmap export the CODIR edited.
`files` reads the upload safely, `lines` types each line, `plan` says what each line would do, `service` keeps the
file between preview and commit and writes everything in one transaction through the domains' own services."""
