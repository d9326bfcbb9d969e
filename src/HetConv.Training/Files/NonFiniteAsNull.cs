using System.Text.Json;
using System.Text.Json.Serialization;

namespace HetConv.Files;

/// <summary>
/// JSON has no NaN or infinity, and System.Text.Json throws on them in the middle of a write. A result file
/// writes such a number (an accuracy of 0/0, a loss that overflowed) as <c>null</c>, and reads null back as NaN.
/// </summary>
public sealed class NonFiniteAsNull : JsonConverter<double>
{
    public override bool HandleNull => true;

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
