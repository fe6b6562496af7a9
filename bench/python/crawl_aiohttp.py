"""CPython baseline for `spindle bench crawl`: the course's asyncio crawler (aiohttp, a task per
URL, `async with semaphore` bounding the requests in flight) with the course's BeautifulSoup
parsing of `a.post-item-title`. Records are written as JSON lines to OUTPUT, as `spindle crawl`
writes them.

    python3 crawl_aiohttp.py URL_FILE CONCURRENCY OUTPUT

URL_FILE lists the pages, one URL per line (as `spindle crawl --urls-from` reads them).

One ClientSession serves every request (the course opens one per URL, which only adds
connection set-up). Prints one JSON object on its last line: pages, records, failed, seconds,
pages_per_second, peak_rss_mb."""
import asyncio
import json
import resource
import sys
import time
from urllib.parse import urljoin

import aiohttp
from bs4 import BeautifulSoup


def parse(url, html):
    soup = BeautifulSoup(html, "html.parser")
    links = soup.find_all("a", class_="post-item-title")
    return [{"page": url, "href": urljoin(url, link["href"]), "text": link.get_text().strip()} for link in links]


async def crawl(urls, concurrency, out):
    semaphore = asyncio.Semaphore(concurrency)
    counts = {"records": 0, "failed": 0}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def async_craw(url):
            async with semaphore:
                try:
                    async with session.get(url) as resp:
                        resp.raise_for_status()
                        html = await resp.text()
                    records = parse(url, html)
                except Exception as error:
                    print(f"failed {url}: {error}", file=sys.stderr)
                    counts["failed"] += 1
                    return
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                counts["records"] += len(records)

        await asyncio.gather(*(async_craw(url) for url in urls))
    return counts


def main():
    url_file, concurrency, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(url_file, encoding="utf-8") as lines:
        urls = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    pages = len(urls)
    with open(output, "w", encoding="utf-8") as out:
        start = time.perf_counter()
        counts = asyncio.run(crawl(urls, concurrency, out))
        seconds = time.perf_counter() - start
    print(json.dumps({
        "python": sys.version.split()[0], "pages": pages, "concurrency": concurrency, "records": counts["records"],
        "failed": counts["failed"], "seconds": seconds, "pages_per_second": pages / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
