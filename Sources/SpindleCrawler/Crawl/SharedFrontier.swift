/// A ``Frontier`` that other workers (processes, machines) crawl at the same time, and that
/// holds hosts back itself, with limits all workers share (``PostgresFrontier``).
///
/// A ``FrontierCrawl`` on such a frontier asks for a lease again whenever one of its pages
/// ends, even one that added no links: the page's lease freed a slot of its host for every
/// worker, which this worker's own scheduling cannot see.
public protocol SharedFrontier: Frontier {}
