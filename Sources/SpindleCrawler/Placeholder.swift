public enum SpindleCrawlerPlaceholder {}
