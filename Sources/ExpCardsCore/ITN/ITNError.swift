/// Why a notification was refused: the field (dotted name) and what was expected. It never
/// quotes a value that could be an alias, a card detail or a signature; it is sent back to the
/// poster as a 400's reason and printed with the file and line by `itn import`.
public struct ITNError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field in error (`card.expiryMonth`, `kr-hash`), or nil for the body as a whole.
    public var field: String?
    public var message: String

    public init(field: String? = nil, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
