using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Resources;

namespace Gatehouse.Cli.Configuration;

/// <summary>Validates resources.databases, adding one error per problem; files (ca_file, password_file) are read now, so a
/// missing one stops the start with the key that names it rather than failing the first session.</summary>
internal static class DatabasesConfig
{
    public static IReadOnlyList<Database> Databases(List<ConfigFile.DatabaseSection>? sections, Func<string, string> resolve, List<string> errors)
    {
        var databases = new List<Database>();
        // The name is a DNS label (NAME.db.<public name> for plain psql), compared as DNS compares.
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < (sections?.Count ?? 0); i++)
        {
            var section = sections![i];
            var key = $"resources.databases[{i}]";
            var before = errors.Count;
            if (string.IsNullOrEmpty(section.Name) || !ResourcesConfig.IsDnsLabel(section.Name))
                errors.Add($"{key}.name: '{section.Name}' must be one DNS label (letters, digits, '-'): plain psql reaches it as NAME.db.<proxy name>");
            else if (!names.Add(section.Name)) errors.Add($"{key}.name: '{section.Name}' is used by another database");
            var protocol = section.Protocol ?? Database.PostgresProtocol;
            if (!Database.Protocols.Contains(protocol))
                errors.Add($"{key}.protocol: '{protocol}' is not one this proxy speaks; it speaks: {string.Join(", ", Database.Protocols)}");
            var (host, port) = ResourcesConfig.Address($"{key}.addr", section.Addr,
                protocol == Database.MySqlProtocol ? "e.g. 10.1.2.3:3306 or db.internal:3306" : "e.g. 10.1.2.3:5432 or db.internal:5432", errors);
            var auth = Auth($"{key}.auth", section.Auth, resolve, errors);
            var tls = Tls($"{key}.tls", section.Tls, resolve, errors);
            if (auth is CertificateDatabaseAuth && tls?.Mode == UpstreamTlsMode.Disable)
                errors.Add($"{key}.tls.mode: disable cannot go with auth kind certificate (the certificate is presented in the TLS handshake); use verify-full");
            if (errors.Count == before)
                databases.Add(new Database(section.Name!, protocol, host, port, section.Labels ?? [], tls!, auth!, section.AuditQueries ?? true));
        }
        return databases;
    }

    private static DatabaseTls? Tls(string key, ConfigFile.DatabaseTlsSection? section, Func<string, string> resolve, List<string> errors)
    {
        UpstreamTlsMode? mode = (section?.Mode ?? "verify-full") switch
        {
            "verify-full" => UpstreamTlsMode.VerifyFull,
            "require" => UpstreamTlsMode.Require,
            "disable" => UpstreamTlsMode.Disable,
            _ => null,
        };
        if (mode is null)
        {
            errors.Add($"{key}.mode: '{section?.Mode}' is not one of verify-full, require, disable");
            return null;
        }
        var roots = new X509Certificate2Collection();
        if (mode == UpstreamTlsMode.VerifyFull)
        {
            if (string.IsNullOrEmpty(section?.CaFile))
            {
                errors.Add($"{key}.ca_file: required with mode verify-full (the default): the CA (PEM) the database's certificate chains to");
                return null;
            }
            try
            {
                roots.ImportFromPemFile(resolve(section.CaFile));
                if (roots.Count == 0) errors.Add($"{key}.ca_file: {section.CaFile} holds no PEM certificate");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                errors.Add($"{key}.ca_file: cannot read {section.CaFile}: {e.Message}");
            }
        }
        if (section?.ServerName is { } serverName && Uri.CheckHostName(serverName) == UriHostNameType.Unknown)
            errors.Add($"{key}.server_name: '{serverName}' is not a host name or address");
        return new DatabaseTls(mode.Value, roots, section?.ServerName);
    }

    private static DatabaseAuth? Auth(string key, ConfigFile.DatabaseAuthSection? section, Func<string, string> resolve, List<string> errors)
    {
        switch (section?.Kind ?? "certificate")
        {
            case "certificate":
                if (section?.User is not null || section?.PasswordEnv is not null || section?.PasswordFile is not null)
                    errors.Add($"{key}: kind certificate takes no user or password (the db user is the one each session asks for)");
                return new CertificateDatabaseAuth();
            case "password":
                if (string.IsNullOrEmpty(section!.User))
                    errors.Add($"{key}.user: required with kind password: the database user the proxy logs in as");
                if (section.PasswordEnv is not null == section.PasswordFile is not null)
                {
                    errors.Add($"{key}: give password_env (an environment variable's name) or password_file, one of them");
                    return null;
                }
                if (section.PasswordEnv is { } variable)
                {
                    var password = Environment.GetEnvironmentVariable(variable);
                    if (string.IsNullOrEmpty(password))
                        errors.Add($"{key}.password_env: the environment variable {variable} is not set");
                    return new PasswordDatabaseAuth(section.User ?? "", () => password ?? "");
                }
                var file = resolve(section.PasswordFile!);
                try
                {
                    if (ReadPassword(file).Length == 0) errors.Add($"{key}.password_file: {section.PasswordFile} is empty");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    errors.Add($"{key}.password_file: cannot read {section.PasswordFile}: {e.Message}");
                }
                // Read again at each login, so a rotated password is used without a restart.
                return new PasswordDatabaseAuth(section.User ?? "", () => ReadPassword(file));
            case var other:
                errors.Add($"{key}.kind: '{other}' is not one of certificate, password");
                return null;
        }
    }

    /// <summary>The file's first line: a trailing line break is not part of the password.</summary>
    private static string ReadPassword(string file) => File.ReadAllText(file).TrimEnd('\r', '\n');
}
