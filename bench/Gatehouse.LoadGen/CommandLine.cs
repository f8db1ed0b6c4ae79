using System.Globalization;

namespace Gatehouse.LoadGen;

/// <summary>A caller mistake on the command line (the script's, not the system's).</summary>
internal sealed class CommandLineException(string message) : Exception(message);

/// <summary>VERB followed by --name value pairs; nothing more is needed by one script.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private CommandLine(string verb) => Verb = verb;

    public string Verb { get; }

    public static CommandLine Parse(string[] args)
    {
        var parsed = new CommandLine(args.Length > 0 ? args[0] : "");
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new CommandLineException($"expected --name value, got '{args[i]}'");
            parsed._values[args[i][2..]] = args[i + 1];
        }
        return parsed;
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public string RequiredText(string name) => Text(name) ?? throw new CommandLineException($"--{name} is required");

    public int Int(string name, int? fallback = null) => (int)Long(name, fallback);

    public long Long(string name, long? fallback = null)
    {
        if (Text(name) is not { } text) return fallback ?? throw new CommandLineException($"--{name} is required");
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value : throw new CommandLineException($"--{name}: '{text}' is not a whole number");
    }
}
