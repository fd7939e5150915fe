"""Sphinx extension: drop duplicated inline <script> blocks from every page.

Jupyter Book 1 runs sphinx-thebe's set-up twice, so each page declares
``const THEBE_JS_URL`` twice and the browser reports "Identifier
'THEBE_JS_URL' has already been declared". The browser test caught it;
this removes the second copy.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # Inline scripts are registered with filename None or "" depending on the caller.
        key = (getattr(script, "filename", str(script)) or None,
               tuple(sorted((getattr(script, "attributes", None) or {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
