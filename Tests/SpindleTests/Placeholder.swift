import Testing
@Test func placeholderSpindleTests() { #expect(Bool(true)) }
