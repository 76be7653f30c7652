// Placeholder: the SFTP work fills this target.
enum TestSSHServerPlaceholder {}
