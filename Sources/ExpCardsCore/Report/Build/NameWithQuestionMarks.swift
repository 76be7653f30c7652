/// Two spellings of one name where one has `?` for the characters Latin-1 lacks: the platform
/// writes `Nguy?n` in a Latin-1 file for `Nguyễn` in a UTF-8 one. The whole one is kept,
/// whichever file came first.
enum NameWithQuestionMarks {
    enum Choice { case old, new }

    /// `.new` when `old` is `new` with `?` in place of characters beyond Latin-1, `.old` the
    /// other way round, nil when they differ otherwise.
    static func pick(old: UnsafeRawBufferPointer, new: UnsafeRawBufferPointer) -> Choice? {
        let q: UInt8 = 0x3F
        guard old.contains(q) || new.contains(q) else { return nil }
        let a = String(decoding: old, as: UTF8.self)
        let b = String(decoding: new, as: UTF8.self)
        if lost(a, whole: b) { return .new }
        if lost(b, whole: a) { return .old }
        return nil
    }

    /// `cut` equals `whole` but for a `?` wherever `whole` has a character Latin-1 cannot write,
    /// with at least one such place.
    static func lost(_ cut: String, whole: String) -> Bool {
        guard cut.count == whole.count else { return false }
        var any = false
        for (c, w) in zip(cut, whole) where c != w {
            guard c == "?", w.unicodeScalars.contains(where: { $0.value > 0xFF }) else { return false }
            any = true
        }
        return any
    }
}
