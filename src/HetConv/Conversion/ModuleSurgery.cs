using System.Collections;
using System.Reflection;
using static TorchSharp.torch;

namespace HetConv.Conversion;

/// <summary>
/// Swaps one child module of a TorchSharp module for another. TorchSharp keeps a child in up to three places:
/// the parent's registered-submodule table (what <c>named_children</c>, <c>parameters</c> and the state dict
/// see), a Sequential's or ModuleList's own list (what its forward calls), and a field of the parent (what a model's
/// forward calls). <c>register_module</c> replaces none of them (it throws on a name in use; a Sequential accepts
/// and ignores it), so all three are updated here.
/// </summary>
internal static class ModuleSurgery
{
    private static readonly FieldInfo Submodules =
        typeof(nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException("TorchSharp's Module no longer has _internal_submodules; update ModuleSurgery.");

    /// <summary>
    /// The reason <paramref name="replacement"/> cannot take <paramref name="child"/>'s place in
    /// <paramref name="parent"/> (a field or list typed too narrowly for it), or null if it can.
    /// </summary>
    public static string? WhyNot(nn.Module parent, nn.Module child, nn.Module replacement)
    {
        foreach (var (field, value) in Fields(parent))
        {
            if (ReferenceEquals(value, child) && !field.FieldType.IsInstanceOfType(replacement))
                return $"{parent.GetType().Name}.{field.Name} is a {field.FieldType.Name}, which cannot hold a {replacement.GetType().Name}";
            if (value is IList list && !ReferenceEquals(value, Submodules.GetValue(parent)) && Contains(list, child)
                && ElementType(list) is { } element && !element.IsInstanceOfType(replacement))
                return $"{parent.GetType().Name}.{field.Name} holds {element.Name} elements, which cannot be a {replacement.GetType().Name}";
        }
        return null;
    }

    /// <summary>Puts <paramref name="replacement"/> where <paramref name="child"/>, named <paramref name="name"/>, was.</summary>
    public static void Replace(nn.Module parent, string name, nn.Module child, nn.Module replacement)
    {
        if (WhyNot(parent, child, replacement) is { } reason)
            throw new InvalidOperationException($"cannot replace {name}: {reason}.");

        var registered = (IDictionary<string, nn.Module>)Submodules.GetValue(parent)!;
        if (registered.TryGetValue(name, out var current) && ReferenceEquals(current, child))
            registered[name] = replacement;

        foreach (var (field, value) in Fields(parent))
        {
            if (ReferenceEquals(value, child))
                field.SetValue(parent, replacement);
            else if (value is IList list && !ReferenceEquals(value, registered))
                for (int i = 0; i < list.Count; i++)
                    if (ReferenceEquals(list[i], child)) list[i] = replacement;
        }

        if (!parent.named_children().Any(c => c.name == name && ReferenceEquals(c.module, replacement)))
            throw new InvalidOperationException(
                $"replacing {name} in {parent.GetType().Name} did not take: the parent keeps its children somewhere this converter does not know.");
    }

    private static IEnumerable<(FieldInfo Field, object? Value)> Fields(nn.Module parent)
    {
        for (var type = parent.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                yield return (field, field.GetValue(parent));
    }

    private static bool Contains(IList list, object item)
    {
        foreach (var element in list)
            if (ReferenceEquals(element, item)) return true;
        return false;
    }

    private static Type? ElementType(IList list) =>
        list.GetType().IsArray
            ? list.GetType().GetElementType()
            : list.GetType().GetInterfaces()
                .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IList<>))?.GetGenericArguments()[0];
}
