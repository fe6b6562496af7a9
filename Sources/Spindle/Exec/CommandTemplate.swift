/// A command line with an optional `{}` placeholder, turned into one command per input item the
/// way GNU parallel does it: every `{}` (also inside a longer argument, as in `out-{}.txt`) is
/// replaced by the item, and a command without `{}` gets the item as its last argument.
public struct CommandTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The text replaced by each item.
    public static let placeholder = "{}"

    /// The command and its arguments, placeholders included.
    public let arguments: [String]

    /// Creates a template from a command and its arguments.
    /// - Throws: ``CommandBatchError`` when `arguments` is empty or the command name is empty.
    public init(_ arguments: [String]) throws(CommandBatchError) {
        guard let command = arguments.first else {
            throw CommandBatchError("no command given: put the command after `--`, e.g. spindle exec -- echo {}")
        }
        guard !command.isEmpty else {
            throw CommandBatchError("the command name is empty")
        }
        self.arguments = arguments
    }

    /// Whether some argument contains `{}`; if none does, items are appended as the last argument.
    public var hasPlaceholder: Bool {
        arguments.contains { $0.contains(Self.placeholder) }
    }

    /// The command line for one item.
    public func arguments(for item: String) -> [String] {
        guard hasPlaceholder else { return arguments + [item] }
        return arguments.map { $0.replacingAll(Self.placeholder, with: item) }
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
    /// The items given after `:::`, or `nil` when they are to be read from standard input.
    public var items: [String]?

    /// Creates an invocation from its parts.
    public init(template: CommandTemplate, items: [String]?) {
        self.template = template
        self.items = items
    }

    /// Splits the words after `--` into the command template and the items after `:::`.
    ///
    /// `["echo", "{}", ":::", "a", "b"]` is `echo {}` over `a` and `b`; `["gzip"]` is `gzip`
    /// over the lines of standard input.
    /// - Throws: ``CommandBatchError`` when there is no command before `:::`, or `:::` is
    ///   followed by no item (an empty list is a mistake, not zero jobs).
    public static func parse(_ words: [String]) throws(CommandBatchError) -> ExecInvocation {
        guard let separator = words.firstIndex(of: itemSeparator) else {
            return ExecInvocation(template: try CommandTemplate(words), items: nil)
        }
        let command = Array(words[..<separator])
        let items = Array(words[(separator + 1)...])
        guard !command.isEmpty else {
            throw CommandBatchError("no command before `:::`: write the command first, e.g. spindle exec -- echo {} ::: a b")
        }
        guard !items.isEmpty else {
            throw CommandBatchError("`:::` is followed by no item: list the items after it, or leave it out to read them from standard input")
        }
        if items.contains(itemSeparator) {
            throw CommandBatchError("`:::` appears more than once: only one list of items is supported")
        }
        return ExecInvocation(template: try CommandTemplate(command), items: items)
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

extension String {
    /// Every occurrence of `target` replaced by `replacement`, without Foundation.
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
