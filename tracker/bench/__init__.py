"""`make bench`: what users meet at network scale (issue 15, DESIGN.md §6). The real server at 8 signed-in clients,
each page beside its ceiling (the same server answering the same bytes pre-rendered), the national export, SQLite
then PostgreSQL with 1 and 2 workers. Figures are printed, never asserted.

    make bench                                   # SQLite, one uvicorn process
    make bench ARGS="--engine postgres"          # PostgreSQL (DATABASE_URL, else a local suivi_bench), 1 then 2 workers
    make bench ARGS="--keep --pages pilotage,statut --seconds 10"

Modules: dataset (the data set), server (the app plus the ceiling route), load (wrk and wrk.lua), pages (what each
client asks for), machine (load average, CPU shares, peak memory), run (the whole run and its tables)."""
