"""Reading an export as a stream of elements, safely, in bounded memory.

lxml's ``iterparse`` (libxml2) with entities left unresolved, no network, no DTD loaded
and libxml2's limits on (``huge_tree`` off); a file that carries a DTD at all is refused,
since the only use an export could have for one is declaring entities (an external one
reads local files, XXE; nested ones multiply, "billion laughs"). WordPress and Disqus
never write one. Callers clear each element once read (:func:`drop`), so memory holds
one comment at a time however large the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from lxml import etree

DTD_REFUSED = (
    "the file declares a DTD (<!DOCTYPE …>); exports never do, and its entities are not "
    "read (XXE, entity expansion)"
)


class BadFile(Exception):
    """The file cannot be imported: not XML, broken XML, a DTD, or not this format."""


_LOCAL: dict[str, str] = {}


def local(tag) -> str:
    """An element's name without its namespace ("" for comments and entities)."""
    if not isinstance(tag, str):
        return ""
    name = _LOCAL.get(tag)
    if name is None:
        name = _LOCAL[tag] = tag.rsplit("}", 1)[-1]
    return name


def namespace(tag) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


class Stream:
    """The ``(event, element)`` pairs of a file (``start`` and ``end``), with the number of
    bytes read so far (:attr:`position`, for progress)."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.size = os.path.getsize(path)
            self._file = open(path, "rb")  # noqa: SIM115 - closed by close() / the context
        except OSError as exc:
            raise BadFile(f"cannot read the file: {exc.strerror or exc}") from None

    @property
    def position(self) -> int:
        try:
            return self._file.tell()
        except ValueError:  # closed
            return self.size

    def events(
        self, tags: list[str] | None = None, root: Callable | None = None
    ) -> Iterator[tuple[str, etree._Element]]:
        """The ``start`` and ``end`` events of the elements named in ``tags`` (lxml's
        filter, ``{*}name`` for any namespace; None: every element). ``root(element)``
        is called once with the root element, before any event: it raises
        :class:`BadFile` for a file of another format."""
        parser = etree.iterparse(
            self._file,
            events=("start", "end"),
            tag=tags,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        first = True
        try:
            for event, element in parser:
                if first:
                    first = False
                    self._check(element.getroottree(), root)
                yield event, element
            if first:
                if parser.root is None:
                    raise BadFile("the file is empty")
                self._check(parser.root.getroottree(), root)
        except etree.XMLSyntaxError as exc:
            raise BadFile(f"not well-formed XML: {exc}") from None

    @staticmethod
    def _check(tree, root: Callable | None) -> None:
        info = tree.docinfo
        if info.internalDTD is not None or info.doctype:
            raise BadFile(DTD_REFUSED)
        if root is not None:
            root(tree.getroot())

    def count(
        self, wanted: str, root: Callable[[str, dict], None], progress: Callable | None = None
    ) -> int:
        """Read the whole file, building nothing: well-formedness, no DTD, ``root(tag,
        nsmap)`` for the root element, and the number of elements whose tag ends with
        ``wanted`` (e.g. ``}comment``). The first reading of a large file, at a fraction of
        the cost of :meth:`events`."""
        target = _Counter(wanted, root)
        parser = etree.XMLParser(
            target=target,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        try:
            while chunk := self._file.read(1 << 20):
                parser.feed(chunk)
                if progress:
                    progress(self.position, self.size)
            found = parser.close()
        except etree.XMLSyntaxError as exc:
            raise BadFile(f"not well-formed XML: {exc}") from None
        if not target.started:
            raise BadFile("the file is empty")
        return found

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Counter:
    """A parser target (lxml calls it instead of building elements) that counts."""

    def __init__(self, wanted: str, root: Callable[[str, dict], None]):
        self.wanted, self.root = wanted, root
        self.found = 0
        self.started = False

    def doctype(self, *_) -> None:
        raise BadFile(DTD_REFUSED)

    def start(self, tag, attrib, nsmap=None) -> None:
        if not self.started:
            self.started = True
            self.root(tag, nsmap or {})
        if tag.endswith(self.wanted):
            self.found += 1

    def end(self, tag) -> None:
        pass

    def data(self, text) -> None:
        pass

    def close(self) -> int:
        return self.found


def drop(element) -> None:
    """Free an element once read: its content, and its place in its parent."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)
