/// The words the blog site's text is drawn from: a mix of English and Chinese, like the
/// course's crawl target, with characters that must be escaped in HTML (`&`, quotes, `<>`).
enum Vocabulary {
    static let topics = [
        "Python", "Swift", "asyncio", "GIL", "ThreadPoolExecutor", "multiprocessing", "Redis",
        "MySQL", "PostgreSQL", "Nginx", "Docker", "Kubernetes", "Linux", "TCP", "HTTP/2", "gevent",
        "Flask", "Django", "Go", "Rust", "JVM", "Java", "C#", ".NET", "Vue", "React", "MongoDB",
        "Kafka", "epoll", "SwiftNIO", "SQLite", "gRPC", "WebSocket", "Celery", "uvloop",
    ]

    static let chinesePhrases = [
        "并发编程", "多线程", "协程", "源码分析", "实战", "入门教程", "性能优化", "深入理解",
        "踩坑记录", "面试题", "学习笔记", "原理详解", "最佳实践", "常见问题", "架构设计",
    ]

    static let things = [
        "event loop", "thread pool", "connection pool", "GC pauses", "back-pressure", "deadlocks",
        "race conditions", "lock contention", "cache misses", "timeouts", "retries", "the scheduler",
        "file descriptors", "context switches", "zero-copy I/O", "queues",
    ]

    static let words = [
        "the", "a", "thread", "process", "coroutine", "queue", "lock", "semaphore", "pool", "worker",
        "request", "response", "latency", "throughput", "benchmark", "kernel", "socket", "buffer",
        "callback", "future", "task", "scheduler", "memory", "CPU", "I/O", "blocking", "non-blocking",
        "crawler", "parser", "producer", "consumer", "timeout", "retry", "connection", "server",
        "client", "with", "without", "when", "because", "so", "and", "or", "but", "is", "are", "runs",
        "waits", "fails", "scales", "leaks", "grows", "starts", "stops", "each", "every", "many",
        "线程", "进程", "队列", "锁", "性能", "内存", "请求", "异步", "同步", "并发", "&", "\"fast\"",
        "it's", "<T>", "O(n)",
    ]

    /// Authors as (display name, URL slug).
    static let authors: [(name: String, slug: String)] = [
        ("蚂蚁小哥", "ant-brother"), ("Tech & Coffee", "tech-and-coffee"), ("码农老王", "coder-wang"),
        ("John O'Neil", "john-oneil"), ("dotnet-dev", "dotnet-dev"), ("程序员小李", "coder-li"),
        ("Alice Chen", "alice-chen"), ("云原生笔记", "cloud-native-notes"), ("Bob \"the builder\"", "bob"),
        ("sqlboy", "sqlboy"), ("前端小白", "frontend-newbie"), ("Kernel Hacker", "kernel-hacker"),
        ("张三", "zhangsan"), ("li_si", "li-si"), ("Pythonista", "pythonista"), ("Gopher", "gopher"),
    ]

    /// Whitespace around a title inside its anchor: newlines and indentation, sometimes a tab.
    static let paddings = ["", " ", "\n            ", "\n\t\t", "\n    ", "  \n      "]
}
