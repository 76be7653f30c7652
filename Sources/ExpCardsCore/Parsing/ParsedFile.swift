/// What the parser read of one file: its header and trailer, how many details, and every problem.
/// The details themselves go to the caller's handler as they are read (see `ExpCardsParser`).
public struct ParsedFile: Sendable {
    /// The path as the caller named it.
    public var path: String
    /// The parsed file name; nil when the name is not an EXP_CARDS name.
    public var name: ExpCardsFileName?
    public var kind: FileKind?
    public var header: Header?
    public var trailer: Trailer?
    /// Detail records (`02`) read, valid or not.
    public var detailRecords: Int = 0
    /// Detail records handed to the caller (the valid ones).
    public var validDetails: Int = 0
    /// Defects: the file is not what the platform's format says.
    public var problems: [Problem] = []
    /// Notes that do not make the file wrong (Latin-1 text, empty lines, header date).
    public var warnings: [String] = []
    /// The file could not be opened or read at all.
    public var unreadable: String?
    /// Read through gzip.
    public var compressed = false

    public init(path: String, name: ExpCardsFileName?) {
        self.path = path
        self.name = name
        self.kind = name?.kind
    }

    public var isClean: Bool { problems.isEmpty && unreadable == nil }

    /// The environment: from the header when read, else from the name.
    public var environment: Environment? { header?.environment ?? name?.environment }
    public var shopId: String? { name?.shopId ?? header?.shopId }
    public var month: YearMonth? { name?.month }
}
