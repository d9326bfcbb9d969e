// MSBuild inline task (RoslynCodeTaskFactory), used by HetConv.targets beside it.
//
// Why: libLibTorchSharp.so from TorchSharp 0.107.0 records a need for GLIBCXX_3.4.32, but Debian 12's
// libstdc++ stops at GLIBCXX_3.4.30, so the loader rejects the library and TorchSharp reports that the
// native package is missing. Only one symbol (_ZSt21ios_base_library_initv) carries that version and nothing
// relocates against it, so marking that version requirement weak (VER_FLG_WEAK) in .gnu.version_r lets the
// loader accept the library while every symbol that is really used still resolves. For a build output the task
// runs only where the system's libstdc++ lacks the version; on a newer system the copied library is left
// untouched. With Always (published files, which run elsewhere) it patches regardless: a weak need for a
// version the system has is met as before.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenMissingGlibcxxVersion : Task
{
    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";
    public bool Always { get; set; }

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    static readonly string[] LibstdcxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
    };

    public override bool Execute()
    {
        var needle = Encoding.ASCII.GetBytes(Version + "\0");
        foreach (var candidate in Always ? Array.Empty<string>() : LibstdcxxCandidates)
        {
            if (File.Exists(candidate) && IndexOf(File.ReadAllBytes(candidate), needle, 0) >= 0)
                return true; // the system provides the version: nothing to do
        }

        foreach (var item in Libraries)
        {
            var path = item.ItemSpec;
            var bytes = File.ReadAllBytes(path);
            var patched = WeakenVersionNeed(bytes, Version);
            if (patched > 0)
            {
                // A new file renamed over the old one: the copy may be a hard link into the NuGet cache, which
                // must stay as the package shipped it.
                File.WriteAllBytes(path + ".tmp", bytes);
                File.Replace(path + ".tmp", path, null);
                Log.LogMessage(MessageImportance.High,
                    $"{Path.GetFileName(path)}: marked {Version} as a weak version need (system libstdc++ lacks it)");
            }
        }
        return !Log.HasLoggedErrors;
    }

    // Returns how many vernaux entries were changed (already-weak entries do not count).
    int WeakenVersionNeed(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2)
        {
            Log.LogWarning($"not a 64-bit ELF file; left unchanged");
            return 0;
        }
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)sh + 24);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 40);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 44);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 24);

            long verneed = offset;
            for (int i = 0; i < count; i++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)verneed + 2);
                long aux = verneed + BitConverter.ToUInt32(elf, (int)verneed + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long name = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, (int)aux + 4);
                            changed++;
                        }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                verneed += BitConverter.ToUInt32(elf, (int)verneed + 12);
            }
        }
        return changed;
    }

    static string ReadCString(byte[] bytes, long start)
    {
        long end = start;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
    }

    static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        for (int i = from; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}
