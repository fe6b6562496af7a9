import Testing
@Test func placeholderSpindleServerTests() { #expect(Bool(true)) }
