"""The summary studio (``acsumgan serve``): a local web app to summarize, edit and export.

A Starlette app on uvicorn (:mod:`.app`, run by :mod:`.server`): the library of a
folder's videos and uploaded ones (:mod:`.library`, names by :mod:`.names`), jobs that run
``acsumgan summarize`` and ``acsumgan render`` as subprocesses (:mod:`.jobs`), the editor's
API on the cached analysis (:mod:`.editor`), every request checked by :mod:`.security`.
The page is package data: ``static/studio.html``, ``studio.js``, ``studio.css``.
"""
