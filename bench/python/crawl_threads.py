"""CPython baseline for `spindle bench crawl`: the course's blog_spider (requests + BeautifulSoup,
`a.post-item-title` -> (href, title)) run as its single_thread and multi_thread programs, one
thread per URL. Records are written as JSON lines to OUTPUT, as `spindle crawl` writes them.

    python3 crawl_threads.py single|multi BASE_URL PAGES OUTPUT

Prints one JSON object on its last line: pages, records, failed, seconds, pages_per_second,
peak_rss_mb."""
import json
import resource
import sys
import threading
import time
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup


def craw(url):
    r = requests.get(url, timeout=30)
    r.raise_for_status()
    return r.text


def parse(url, html):
    soup = BeautifulSoup(html, "html.parser")
    links = soup.find_all("a", class_="post-item-title")
    return [{"page": url, "href": urljoin(url, link["href"]), "text": link.get_text().strip()} for link in links]


def main():
    mode, base, pages, output = sys.argv[1], sys.argv[2].rstrip("/"), int(sys.argv[3]), sys.argv[4]
    urls = [f"{base}/sitehome/p/{page}" for page in range(1, pages + 1)]
    lock = threading.Lock()
    counts = {"records": 0, "failed": 0}

    with open(output, "w", encoding="utf-8") as out:
        def work(url):
            try:
                records = parse(url, craw(url))
            except Exception as error:  # a failed page is counted, as spindle crawl does
                print(f"failed {url}: {error}", file=sys.stderr)
                with lock:
                    counts["failed"] += 1
                return
            with lock:
                for record in records:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                counts["records"] += len(records)

        start = time.perf_counter()
        if mode == "single":
            for url in urls:
                work(url)
        else:
            threads = [threading.Thread(target=work, args=(url,)) for url in urls]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        seconds = time.perf_counter() - start

    print(json.dumps({
        "python": sys.version.split()[0], "mode": mode, "pages": pages, "records": counts["records"],
        "failed": counts["failed"], "seconds": seconds, "pages_per_second": pages / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
