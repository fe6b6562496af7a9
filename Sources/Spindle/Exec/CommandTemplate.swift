/// A command line with an optional `{}` placeholder, turned into one command per input item the
/// way GNU parallel does it: every `{}` (also inside a longer argument, as in `out-{}.txt`) is
/// replaced by the item, and a command without `{}` gets the item as its last argument.
///
/// Arguments and items are bytes, as the kernel passes them: a file name in Latin-1 reaches the
/// command as it was written, not repaired to U+FFFD. The `String` forms are for text that is
/// UTF-8 and for messages.
public struct CommandTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The text replaced by each item.
    public static let placeholder = "{}"
    private static let placeholderBytes = Array(placeholder.utf8)

    /// The command and its arguments, placeholders included, as bytes.
    public let argumentBytes: [[UInt8]]

    /// The command and its arguments as text (bytes that are not UTF-8 shown as U+FFFD).
    public var arguments: [String] { argumentBytes.map(CommandBytes.text) }

    /// Creates a template from a command and its arguments.
    /// - Throws: ``CommandBatchError`` when `arguments` is empty, the command name is empty, or
    ///   an argument contains a NUL character (which no argument can hold).
    public init(_ arguments: [String]) throws(CommandBatchError) {
        try self.init(bytes: arguments.map { Array($0.utf8) })
    }

    /// Creates a template from a command and its arguments given as bytes, for instance as
    /// this process received them.
    /// - Throws: ``CommandBatchError`` as ``init(_:)`` does.
    public init(bytes arguments: [[UInt8]]) throws(CommandBatchError) {
        guard let command = arguments.first else {
            throw CommandBatchError("no command given: put the command after `--`, e.g. spindle exec -- echo {}")
        }
        guard !command.isEmpty else {
            throw CommandBatchError("the command name is empty")
        }
        if let argument = arguments.first(where: { $0.contains(0) }) {
            throw CommandBatchError("the argument \(CommandBytes.quoted(argument)) contains a NUL byte, which no argument can hold")
        }
        self.argumentBytes = arguments
    }

    /// Whether some argument contains `{}`; if none does, items are appended as the last argument.
    public var hasPlaceholder: Bool {
        argumentBytes.contains { CommandBytes.range(of: Self.placeholderBytes, in: $0[...]) != nil }
    }

    /// Whether the command name itself contains `{}`, so the executable differs per item.
    var hasPlaceholderInCommand: Bool {
        CommandBytes.range(of: Self.placeholderBytes, in: argumentBytes[0][...]) != nil
    }

    /// The command line for one item.
    public func arguments(for item: [UInt8]) -> [[UInt8]] {
        guard hasPlaceholder else { return argumentBytes + [item] }
        return argumentBytes.map { CommandBytes.replacingAll(Self.placeholderBytes, with: item, in: $0) }
    }

    /// The command line for one item given as text.
    public func arguments(for item: String) -> [String] {
        arguments(for: Array(item.utf8)).map(CommandBytes.text)
    }

    /// The template as a shell-like line, for messages.
    public var description: String { arguments.joined(separator: " ") }
}

/// What follows `spindle exec [options] --`: the command template and, when the words contain
/// `:::`, the items listed after it (otherwise the items come from standard input, one a line).
public struct ExecInvocation: Sendable, Hashable {
    /// The separator between the command and its items, as in GNU parallel.
    public static let itemSeparator = ":::"

    /// The command to run for each item.
    public var template: CommandTemplate
    /// The items given after `:::` as bytes, or `nil` when they are to be read from standard input.
    public var itemBytes: [[UInt8]]?

    /// The items given after `:::` as text (bytes that are not UTF-8 shown as U+FFFD).
    public var items: [String]? { itemBytes?.map(CommandBytes.text) }

    /// Creates an invocation from its parts.
    public init(template: CommandTemplate, items: [String]?) {
        self.template = template
        self.itemBytes = items?.map { Array($0.utf8) }
    }

    /// Creates an invocation from its parts, the items as bytes.
    public init(template: CommandTemplate, itemBytes: [[UInt8]]?) {
        self.template = template
        self.itemBytes = itemBytes
    }

    /// Splits the words after `--` into the command template and the items after `:::`.
    ///
    /// `["echo", "{}", ":::", "a", "b"]` is `echo {}` over `a` and `b`; `["gzip"]` is `gzip`
    /// over the lines of standard input.
    /// - Throws: ``CommandBatchError`` when there is no command before `:::`, or `:::` is
    ///   followed by no item (an empty list is a mistake, not zero jobs).
    public static func parse(_ words: [String]) throws(CommandBatchError) -> ExecInvocation {
        try parse(bytes: words.map { Array($0.utf8) })
    }

    /// ``parse(_:)`` for words given as bytes, as this process received them.
    public static func parse(bytes words: [[UInt8]]) throws(CommandBatchError) -> ExecInvocation {
        let separator = Array(itemSeparator.utf8)
        guard let separatorIndex = words.firstIndex(of: separator) else {
            return ExecInvocation(template: try CommandTemplate(bytes: words), itemBytes: nil)
        }
        let command = Array(words[..<separatorIndex])
        let items = Array(words[(separatorIndex + 1)...])
        guard !command.isEmpty else {
            throw CommandBatchError("no command before `:::`: write the command first, e.g. spindle exec -- echo {} ::: a b")
        }
        guard !items.isEmpty else {
            throw CommandBatchError("`:::` is followed by no item: list the items after it, or leave it out to read them from standard input")
        }
        if items.contains(separator) {
            throw CommandBatchError("`:::` appears more than once: only one list of items is supported")
        }
        return ExecInvocation(template: try CommandTemplate(bytes: command), itemBytes: items)
    }
}

/// A mistake in how a batch of commands was described: an empty command, a bad limit, a bad
/// list of items. Problems of single jobs (a missing executable, a crash) are not errors: they
/// are reported in that job's ``CommandJobResult``.
public struct CommandBatchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, in words that name the problem.
    public var description: String

    /// Creates an error with its message.
    public init(_ description: String) { self.description = description }
}

/// Arguments and items as bytes: searching, replacing, and showing them in messages.
public enum CommandBytes {
    /// The bytes as text, sequences that are not UTF-8 shown as U+FFFD.
    public static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes in single quotes for a message: UTF-8 text as it is, control characters and
    /// bytes that are not UTF-8 as `\xNN` (NUL as `\0`), so the message names exactly what was given.
    public static func quoted(_ bytes: [UInt8]) -> String {
        var text = "'"
        var index = 0
        while index < bytes.count {
            // The shortest prefix that is one valid UTF-8 scalar, or else one byte shown as \xNN.
            let scalar = (1...4).lazy.compactMap { length -> (Unicode.Scalar, Int)? in
                guard index + length <= bytes.count,
                    let text = String(validating: bytes[index..<index + length], as: UTF8.self),
                    text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first
                else { return nil }
                return (scalar, length)
            }.first
            guard let (scalar, length) = scalar else {
                text += "\\x" + hex(bytes[index])
                index += 1
                continue
            }
            index += length
            if scalar == "\0" {
                text += "\\0"
            } else if scalar.value < 0x20 || scalar.value == 0x7F {
                text += "\\x" + hex(UInt8(truncatingIfNeeded: scalar.value))
            } else if scalar == "\\" || scalar == "'" {
                text += "\\" + String(scalar)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text + "'"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    static func range(of target: [UInt8], in bytes: ArraySlice<UInt8>) -> Range<Int>? {
        guard !target.isEmpty, bytes.count >= target.count else { return nil }
        var start = bytes.startIndex
        while start + target.count <= bytes.endIndex {
            if bytes[start..<start + target.count].elementsEqual(target) { return start..<start + target.count }
            start += 1
        }
        return nil
    }

    static func replacingAll(_ target: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var rest = bytes[...]
        while let range = range(of: target, in: rest) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
