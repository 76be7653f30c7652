/// Rows written from the report's compact records, byte by byte when their text is simple.
extension TextReportWriter {
    // MARK: Rows, from the records' bytes

    /// A date coloured by status, as `style.status(status, date)`.
    mutating func statusDate(_ status: ExpiryStatus, _ days: Int32) {
        let code = style.enabled ? TextReportWriter.colourCodes[status.rank] : nil
        if let code { out.append(code) }
        out.append(day: days)
        if code != nil { out.append(TerminalStyle.reset) }
    }

    static let colourCodes: [String?] = ["\u{1B}[31m", "\u{1B}[38;5;208m", nil]

    /// Columns of text as `displayWidth(displaySafe(text))`.
    func textWidth(_ bytes: UnsafeRawBufferPointer) -> Int {
        isSimpleText(bytes) ? simpleWidth(bytes) : displayWidth(displaySafe(String(decoding: bytes, as: UTF8.self)))
    }

    func nameWidth(_ id: Int) -> Int {
        mask ? displayWidth(name(store.name(id))) : store.withName(id) { textWidth($0) }
    }

    func emailWidth(_ id: Int) -> Int {
        mask ? displayWidth(email(store.email(id))) : store.withEmail(id) { textWidth($0) }
    }

    mutating func appendName(_ id: Int, to width: Int) {
        if mask { return out.append(padded(name(store.name(id)), to: width)) }
        store.withName(id) { appendPadded($0, to: width) }
    }

    mutating func appendEmail(_ id: Int, to width: Int) {
        if mask { return out.append(padded(email(store.email(id)), to: width)) }
        store.withEmail(id) { appendPadded($0, to: width) }
    }

    /// `displaySafe(text)`, whole.
    mutating func appendText(_ bytes: UnsafeRawBufferPointer) {
        if isSimpleText(bytes) {
            out.append(bytes)
        } else {
            out.append(displaySafe(String(decoding: bytes, as: UTF8.self)))
        }
    }

    /// `padded(displaySafe(text), to: width)`.
    mutating func appendPadded(_ bytes: UnsafeRawBufferPointer, to width: Int) {
        guard isSimpleText(bytes) else {
            return out.append(padded(displaySafe(String(decoding: bytes, as: UTF8.self)), to: width))
        }
        let w = simpleWidth(bytes)
        if w <= width {
            out.append(bytes)
            out.append(spaces: width - w)
            return
        }
        guard width > 0 else { return }
        // The first width - 1 scalars, then "…".
        var scalars = 0
        var end = 0
        while end < bytes.count {
            if bytes[end] & 0xC0 != 0x80 {
                if scalars == width - 1 { break }
                scalars += 1
            }
            end += 1
        }
        out.append(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        out.append("…")
    }

    mutating func appendRightAligned(_ v: Int64, to width: Int) {
        var digits = v < 0 ? 2 : 1
        var m = v.magnitude
        while m >= 10 {
            m /= 10
            digits += 1
        }
        out.append(spaces: width - digits)
        out.append(int: v)
    }

    /// `paragraph(text)` for text written at `out.count` from `start`: wrapped from the bytes
    /// when simple, through `wrapped` otherwise. Nothing is flushed while it is written.
    mutating func paragraph(from start: Int, indent: Int, hanging: Int) {
        let simple = out.withBytes(from: start) { isSimpleText($0) }
        guard simple else {
            let text = out.withBytes(from: start) { String(decoding: $0, as: UTF8.self) }
            out.truncate(to: start)
            return paragraph(
                text, indent: String(repeating: " ", count: indent), hanging: String(repeating: " ", count: hanging))
        }
        var text = scratch
        text.removeAll(keepingCapacity: true)
        out.withBytes(from: start) { text.append(contentsOf: $0) }
        out.truncate(to: start)
        text.withUnsafeBytes { wrapSimple($0, indent: indent, hanging: hanging) }
        scratch = text
        out.flushIfFull()
    }

    /// `wrapped` for simple text (every scalar one column, split only at ASCII spaces), written
    /// out with its no-break spaces as spaces.
    mutating func wrapSimple(_ text: UnsafeRawBufferPointer, indent: Int, hanging: Int) {
        func appendLine(_ bytes: UnsafeRawBufferPointer) {
            // Runs between no-break spaces copied whole; each no-break space written as a space.
            var run = 0
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0xC2 && i + 1 < bytes.count && bytes[i + 1] == 0xA0 {
                    out.append(UnsafeRawBufferPointer(rebasing: bytes[run..<i]))
                    out.append(0x20)
                    i += 2
                    run = i
                } else {
                    i += 1
                }
            }
            out.append(UnsafeRawBufferPointer(rebasing: bytes[run..<bytes.count]))
        }
        let total = simpleWidth(text)
        var doubleSpace = false
        for i in 0..<max(0, text.count - 1) where text[i] == 0x20 && text[i + 1] == 0x20 {
            doubleSpace = true
            break
        }
        if !doubleSpace, text.first != 0x20, text.last != 0x20, text.count > 0, indent + total <= width {
            out.append(spaces: indent)
            appendLine(text)
            out.append(0x0A)
            return
        }
        var lineStart = out.count
        var emitted = false
        var used = indent
        var lineHasWord = false
        out.append(spaces: indent)
        func newLine() {
            out.append(0x0A)
            emitted = true
            lineStart = out.count
            out.append(spaces: hanging)
            used = hanging
        }
        var i = 0
        while i < text.count {
            if text[i] == 0x20 {
                i += 1
                continue
            }
            var j = i
            while j < text.count && text[j] != 0x20 { j += 1 }
            var word = UnsafeRawBufferPointer(rebasing: text[i..<j])
            i = j
            var ww = simpleWidth(word)
            let prefix = lineHasWord ? 1 : 0
            if used + prefix + ww <= width {
                if lineHasWord { out.append(0x20) }
                appendLine(word)
                used += prefix + ww
                lineHasWord = true
                continue
            }
            if lineHasWord { newLine() }
            // A word longer than a whole line: cut it into pieces.
            while used + ww > width {
                let room = width - used
                guard room > 0 else { break }
                var scalars = 0
                var end = 0
                while end < word.count {
                    if word[end] & 0xC0 != 0x80 {
                        if scalars == room { break }
                        scalars += 1
                    }
                    end += 1
                }
                appendLine(UnsafeRawBufferPointer(rebasing: word[0..<end]))
                newLine()
                word = UnsafeRawBufferPointer(rebasing: word[end...])
                ww -= scalars
            }
            appendLine(word)
            used += ww
            lineHasWord = !word.isEmpty
        }
        if lineHasWord || !emitted {
            out.append(0x0A)
        } else {
            out.truncate(to: lineStart)
        }
    }
}
