namespace Gatehouse.Identity;

/// <summary>What may be a user name: the rule for local users and for names that mapping rules make from company
/// certificates alike, so a mapped identity can never name a user that could not exist.</summary>
internal static class UserNames
{
    /// <summary>Null when <paramref name="name"/> can be a user name; else the sentence saying what is wrong with it.</summary>
    public static string? Check(string name) =>
        string.IsNullOrWhiteSpace(name) || name.Length > 128 || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)) || name.StartsWith('-')
            ? $"'{name}' cannot be a user name: use 1–128 characters without spaces or control characters, not starting with '-'"
            : null;
}
