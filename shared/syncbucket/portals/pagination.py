"""Walking a paginated portal grid: ``pageNo`` from 1 until ``totalPages``.

Both portals answer ``{"pageNo", "pageSize", "totalPages", "totalRecords", "rows": [...]}``.
Each page is its own request, so a session that drops mid-walk costs one re-login and one
repeated page, not the whole grid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from syncbucket.portals.fields import Fields, unexpected

PAGE_SIZE = 100  # the portals' maximum: fewer requests against their rate limits
# A runaway totalPages (a portal bug) must not turn one item into an endless walk.
MAX_PAGES = 1000


def walk_pages(
    fetch_page: Callable[[int], Any], *, portal: str, module: str, max_pages: int = MAX_PAGES
) -> Iterator[Fields]:
    """Yield every row of every page; ``fetch_page(page_no)`` returns one page's JSON."""
    page_no = 1
    while True:
        page = Fields(fetch_page(page_no), portal=portal, module=module, where=f"page {page_no}")
        total_pages = page.integer("totalPages")
        if total_pages > max_pages:
            raise unexpected(
                portal, module, f"the grid claims {total_pages} pages, more than {max_pages}"
            )
        yield from page.objects("rows", required=True)
        if page_no >= total_pages:
            return
        page_no += 1
