using System.Text.Json;
using Gatehouse.Storage.Sql;

namespace Gatehouse.Tests.Storage;

/// <summary>The details column is written as the serializer wrote it before: the same text, so the trail reads the same.</summary>
public sealed class AuditDetailsJsonTests
{
    [Fact]
    public void Details_are_the_text_the_serializer_writes_even_when_the_writer_is_reused()
    {
        var json = new AuditDetailsJson();
        Dictionary<string, string>[] all =
        [
            new() { ["query"] = "select '\"quoted\"', '<b>&</b>', e'\\t\t\n\r\0', 'ünïcødé ☃ 𝄞', '\u2028'", ["db_user"] = "bench" },
            new(),
            new() { ["a"] = "", ["ключ"] = "значение", ["q"] = new string('x', 5000) },
            new() { ["query"] = "select 1" },
        ];
        foreach (var details in all) Assert.Equal(JsonSerializer.Serialize(details), json.Write(details));
    }
}
