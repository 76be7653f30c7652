/// An `application/x-www-form-urlencoded` body: `name=value` pairs joined by `&`, `+` for a space
/// and `%XX` escapes. Written by hand: it is twenty lines, and Foundation's URLComponents decodes
/// `+` as itself and drops the distinction between a missing and an empty value.
struct FormBody {
    var values: [String: [UInt8]] = [:]

    init(_ body: [UInt8]) throws(ITNError) {
        var end = body.count
        while end > 0, body[end - 1] == 0x0A || body[end - 1] == 0x0D { end -= 1 }
        for pair in body[..<end].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(decoding: try Self.decode(parts[0]), as: UTF8.self)
            let value = parts.count > 1 ? try Self.decode(parts[1]) : []
            guard values[name] == nil else {
                throw ITNError(field: name.isEmpty || name.utf8.count > 40 ? nil : name, "given twice in the form")
            }
            values[name] = value
        }
        guard !values.isEmpty else { throw ITNError("the form body has no field") }
    }

    private static func decode(_ s: ArraySlice<UInt8>) throws(ITNError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == UInt8(ascii: "+") {
                out.append(0x20)
            } else if c == UInt8(ascii: "%") {
                guard i + 2 < s.endIndex, let byte = Hex.decode([s[i + 1], s[i + 2]])?.first else {
                    throw ITNError("a form field has a % not followed by two hex digits")
                }
                out.append(byte)
                i += 2
            } else {
                out.append(c)
            }
            i += 1
        }
        return out
    }
}
