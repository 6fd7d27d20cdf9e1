"""Paged lists: `page` (0-based), `size` (default 25, at most 1000) and the `Link` header SDKs follow."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from ..domain.coerce import as_int
from ..domain.errors import validation_error

DEFAULT_SIZE = 25
MAX_SIZE = 1000


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return self.number * self.size


def parse_page(page: str | None, size: str | None, resource: str = "call") -> Page:
    number = 0 if page in (None, "") else as_int(page, "page", resource)
    count = DEFAULT_SIZE if size in (None, "") else as_int(size, "size", resource)
    if number < 0:
        raise validation_error("page", "must be greater than or equal to 0", resource)
    if count < 1:
        raise validation_error("size", "must be greater than or equal to 1", resource)
    if count > MAX_SIZE:
        raise validation_error("size", f"exceeds the limit of {MAX_SIZE}", resource)
    return Page(number, count)


def link_header(url: str, page: Page, filters: dict[str, str], has_more: bool) -> str:
    """`<url?page=0&size=S&…>; rel="first", <…>; rel="previous", <…>; rel="next"` with absolute URLs."""

    def link(number: int, rel: str) -> str:
        query = urlencode({**filters, "page": number, "size": page.size})
        return f'<{url}?{query}>; rel="{rel}"'

    links = [link(0, "first")]
    if page.number > 0:
        links.append(link(page.number - 1, "previous"))
    if has_more:
        links.append(link(page.number + 1, "next"))
    return ", ".join(links)
