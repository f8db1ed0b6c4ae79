namespace Gatehouse;

/// <summary>
/// Start-up or admin input that cannot be used (a corrupt CA record, a wrong master key, an unreadable
/// bundle). The message is one line that names the file or field and says what to do; the command line
/// prints it as is and exits non-zero. Nothing has been written when it is thrown.
/// </summary>
internal sealed class SetupException(string message, Exception? inner = null) : Exception(message, inner);
