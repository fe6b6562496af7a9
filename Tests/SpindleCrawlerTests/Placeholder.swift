import Testing
@Test func placeholderSpindleCrawlerTests() { #expect(Bool(true)) }
