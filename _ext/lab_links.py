"""Sphinx extension: let plain Markdown links reach glossary terms and bibliography entries.

The notebooks link to the glossary and the bibliography with ordinary Markdown links, such as
``[stride](../../glossary.md#term-stride)`` and
``[[He *et al.*, 2016a](../../bibliography.md#cite-he2016)]``, because JupyterLab
(jupyterlab-myst) cannot resolve Sphinx's ``{term}``, ``{cite}`` and ``{doc}`` roles: a learner
there would see dead links or bare keys. MyST-Parser resolves a link's ``#fragment`` only
against heading anchors and warns otherwise, which the strict build turns into an error. This
registers each glossary term's id (``term-stride``) and each bibliography entry's id
(``cite-he2016``, from ``bibtex_cite_id``) as an anchor of its page, so those links resolve,
and a link to a term or entry that does not exist still fails the strict build.
"""


def _register_anchors(app, env):
    def add(docname, anchor, text):
        env.metadata[docname].setdefault("myst_slugs", {})[anchor] = (0, anchor, text)

    for (objtype, name), (docname, anchor) in env.get_domain("std").objects.items():
        if objtype == "term":
            add(docname, anchor, name)
    for citation in env.get_domain("cite").citations:
        add(citation.bibliography_key.docname, citation.citation_id, citation.key)
    return []


def setup(app):
    # After sphinxcontrib-bibtex's own env-updated handler, which collects the citations.
    app.connect("env-updated", _register_anchors, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
