import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

/// Overlapping round trips: the next open sent while the current file is read, closes not waited for.
extension SFTPClient {
    /// Says which path the next `list` (directory) or `download` (file) will open: the client
    /// sends that open request as soon as the current operation's own open is answered, so its
    /// reply travels while the current one reads. A hint for another path costs one wasted open.
    public func openAhead(_ path: String, directory: Bool) {
        openAheadHint = OpenRequest(path: path, directory: directory)
    }

    struct OpenRequest: Equatable {
        var path: String
        var directory: Bool
    }

    func sendOpen(_ request: OpenRequest, _ sftp: OpaquePointer) -> OpaquePointer? {
        let path = request.path
        return libssh2_sftp_open_ex(
            sftp, path, UInt32(path.utf8.count), request.directory ? 0 : UInt(LIBSSH2_FXF_READ), 0,
            request.directory ? LIBSSH2_SFTP_OPENDIR : LIBSSH2_SFTP_OPENFILE)
    }

    /// Opens `path`, using the open sent ahead when it is this one.
    func openHandle(
        _ path: String, directory: Bool, _ session: OpaquePointer, _ sftp: OpaquePointer, operation: String
    ) throws -> OpaquePointer {
        settleCloses(session, wait: pendingCloses.count > 16)
        let request = OpenRequest(path: path, directory: directory)
        if let opened = openedAhead {
            openedAhead = nil
            if opened.request == request { return opened.handle }
            closeLater(opened.handle, session)
        }
        if let pending = pendingOpen {
            // Finish it (blocking): libssh2 resumes the open where the non-blocking call left it.
            pendingOpen = nil
            let handle = sendOpen(pending, sftp)
            if pending == request {
                guard let handle else { throw failure(session, sftp, path: path, operation: operation) }
                return handle
            }
            if let handle {
                closeLater(handle, session)
            } else {
                let error = failure(session, sftp, path: pending.path, operation: "opening \(pending.path)")
                if broken { throw error }
            }
        }
        guard let handle = sendOpen(request, sftp) else {
            throw failure(session, sftp, path: path, operation: operation)
        }
        return handle
    }

    /// Room in the SFTP channel's send window for a small request. libssh2 can send part of a
    /// packet when the window is short and finish it later, and a blocking call in between would
    /// interleave its own packets: a request is sent ahead only when it fits whole.
    func windowFits(_ sftp: OpaquePointer, bytes: Int) -> Bool {
        guard let channel = libssh2_sftp_get_channel(sftp) else { return false }
        return Int(libssh2_channel_window_write_ex(channel, nil)) >= bytes
    }

    func startOpenAhead(_ session: OpaquePointer, _ sftp: OpaquePointer) {
        guard let hint = openAheadHint, pendingOpen == nil, openedAhead == nil, !broken else { return }
        openAheadHint = nil
        guard windowFits(sftp, bytes: hint.path.utf8.count + 1024) else { return }
        libssh2_session_set_blocking(session, 0)
        defer { libssh2_session_set_blocking(session, 1) }
        if let handle = sendOpen(hint, sftp) {
            openedAhead = (hint, handle)
        } else if libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN {
            pendingOpen = hint
        }
    }

    /// Sends the close without waiting for its answer (the next operations collect it).
    func closeLater(_ handle: OpaquePointer, _ session: OpaquePointer) {
        if broken { return }
        guard let sftp, windowFits(sftp, bytes: 1024) else {
            libssh2_sftp_close_handle(handle)
            return
        }
        libssh2_session_set_blocking(session, 0)
        let rc = libssh2_sftp_close_handle(handle)
        libssh2_session_set_blocking(session, 1)
        if rc == LIBSSH2_ERROR_EAGAIN { pendingCloses.append(handle) }
    }

    /// Collects the answers to earlier closes: those already there, or all of them (`wait`).
    func settleCloses(_ session: OpaquePointer, wait: Bool) {
        if broken || pendingCloses.isEmpty { return }
        if !wait { libssh2_session_set_blocking(session, 0) }
        pendingCloses.removeAll { libssh2_sftp_close_handle($0) != LIBSSH2_ERROR_EAGAIN }
        if !wait { libssh2_session_set_blocking(session, 1) }
    }
}
