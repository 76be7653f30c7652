import CLibSSH2

extension LibSSH2 {
    /// Whether the linked libssh2 copes with a READ reply shorter than asked. 1.10 does not (its
    /// read-ahead loses track of the offsets); 1.11 asks again for what is missing.
    static let handlesShortReads: Bool = libssh2_version(0x010B00) != nil
}
