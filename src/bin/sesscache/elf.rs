//! Just enough of an ELF reader for `check`: the program interpreter, the dynamic section
//! (needed libraries, soname, -Bsymbolic), and whether a shared library's references to one of
//! its own symbols go through dynamic relocations (and so can be interposed by a preload).
//! 64-bit little-endian files only: the machines libssl 3 and this library are built for.

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: i64 = 0;
const DT_NEEDED: i64 = 1;
const DT_PLTRELSZ: i64 = 2;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_RELA: i64 = 7;
const DT_RELASZ: i64 = 8;
const DT_RELAENT: i64 = 9;
const DT_STRSZ: i64 = 10;
const DT_SYMENT: i64 = 11;
const DT_SONAME: i64 = 14;
const DT_RPATH: i64 = 15;
const DT_SYMBOLIC: i64 = 16;
const DT_REL: i64 = 17;
const DT_RELSZ: i64 = 18;
const DT_RELENT: i64 = 19;
const DT_PLTREL: i64 = 20;
const DT_JMPREL: i64 = 23;
const DT_RUNPATH: i64 = 29;
const DT_FLAGS: i64 = 30;
const DF_SYMBOLIC: u64 = 0x2;
const SHT_DYNSYM: u32 = 11;
const SHN_UNDEF: u16 = 0;

/// An ELF file's bytes and what `check` reads from them.
pub struct Elf {
    data: Vec<u8>,
    pub interp: Option<String>,
    pub dynamic: Option<Dynamic>,
}

#[derive(Debug, Default)]
pub struct Dynamic {
    pub needed: Vec<String>,
    pub soname: Option<String>,
    pub rpath: Option<String>,
    pub runpath: Option<String>,
    /// DT_SYMBOLIC, or DF_SYMBOLIC in DT_FLAGS: what `ld -Bsymbolic` leaves behind.
    pub symbolic: bool,
    strtab: Option<(usize, usize)>,
    symtab: Option<(usize, usize)>,
    /// The symbol indexes that dynamic relocations refer to.
    reloc_symbols: Vec<u32>,
}

/// How a shared library reaches one of its own exported functions.
#[derive(Debug, PartialEq)]
pub enum SelfReference {
    /// Through a dynamic relocation (PLT or GOT): a preloaded definition wins.
    Interposable,
    /// Defined here and never referenced through a relocation: bound at link time
    /// (-Bsymbolic-functions, protected visibility, or not called at all).
    BoundInside,
    /// The library does not define it.
    NotDefined,
    /// The file lacks what it takes to tell (no section headers, no dynamic symbols).
    Unknown,
}

fn field(data: &[u8], at: usize, len: usize) -> Result<&[u8], String> {
    at.checked_add(len).and_then(|end| data.get(at..end)).ok_or_else(|| "truncated ELF file".to_string())
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, String> {
    Ok(u16::from_le_bytes(field(data, at, 2)?.try_into().expect("two bytes")))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, String> {
    Ok(u32::from_le_bytes(field(data, at, 4)?.try_into().expect("four bytes")))
}

fn u64_at(data: &[u8], at: usize) -> Result<u64, String> {
    Ok(u64::from_le_bytes(field(data, at, 8)?.try_into().expect("eight bytes")))
}

fn usize_of(v: u64) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| "offset out of range".to_string())
}

/// A NUL-terminated string at `at`, within `limit` bytes.
fn c_string(data: &[u8], at: usize, limit: usize) -> Result<String, String> {
    let end = at.saturating_add(limit).min(data.len());
    let bytes = data.get(at..end).ok_or("string outside the file")?;
    let len = bytes.iter().position(|&b| b == 0).ok_or("unterminated string")?;
    Ok(String::from_utf8_lossy(&bytes[..len]).into_owned())
}

/// Whether these bytes start like an ELF file at all.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

impl Elf {
    pub fn read(path: &std::path::Path) -> Result<Elf, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Elf::parse(data).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(data: Vec<u8>) -> Result<Elf, String> {
        if !is_elf(&data) {
            return Err("not an ELF file".into());
        }
        if field(&data, 4, 2)? != [2, 1] {
            return Err("not a 64-bit little-endian ELF file".into());
        }
        let phoff = usize_of(u64_at(&data, 32)?)?;
        let phentsize = usize::from(u16_at(&data, 54)?);
        let phnum = usize::from(u16_at(&data, 56)?);
        if phnum > 0 && phentsize < 56 {
            return Err("program headers too small".into());
        }
        let mut segments = Vec::with_capacity(phnum);
        for i in 0..phnum {
            let at = phoff.checked_add(i * phentsize).ok_or("program header out of range")?;
            segments.push(Segment {
                kind: u32_at(&data, at)?,
                offset: u64_at(&data, at.saturating_add(8))?,
                vaddr: u64_at(&data, at.saturating_add(16))?,
                filesz: u64_at(&data, at.saturating_add(32))?,
            });
        }
        let interp = match segments.iter().find(|s| s.kind == PT_INTERP) {
            Some(s) => Some(c_string(&data, usize_of(s.offset)?, usize_of(s.filesz)?)?),
            None => None,
        };
        let dynamic = match segments.iter().find(|s| s.kind == PT_DYNAMIC) {
            Some(s) => Some(read_dynamic(&data, &segments, s)?),
            None => None,
        };
        Ok(Elf { data, interp, dynamic })
    }

    /// Whether the file's bytes contain `needle` anywhere (symbol names, strings).
    pub fn contains(&self, needle: &[u8]) -> bool {
        !needle.is_empty() && self.data.windows(needle.len()).any(|w| w == needle)
    }

    /// How this shared library reaches its own exported function `name`.
    pub fn self_reference(&self, name: &str) -> SelfReference {
        let Some(dynamic) = &self.dynamic else { return SelfReference::Unknown };
        let Some((symtab, syment)) = dynamic.symtab else { return SelfReference::Unknown };
        let Some((strtab, strsz)) = dynamic.strtab else { return SelfReference::Unknown };
        let symbol = |index: u32| -> Option<(String, u16)> {
            let at = symtab.checked_add(usize::try_from(index).ok()?.checked_mul(syment)?)?;
            let name_at = u32_at(&self.data, at).ok()? as usize;
            let shndx = u16_at(&self.data, at.saturating_add(6)).ok()?;
            let name = c_string(&self.data, strtab.checked_add(name_at)?, strsz.checked_sub(name_at)?).ok()?;
            Some((name, shndx))
        };
        let mut referenced = false;
        for &index in &dynamic.reloc_symbols {
            if let Some((sym, shndx)) = symbol(index) {
                if sym == name {
                    if shndx == SHN_UNDEF {
                        return SelfReference::NotDefined;
                    }
                    referenced = true;
                }
            }
        }
        if referenced {
            return SelfReference::Interposable;
        }
        // Not referenced through a relocation: is it defined here? The dynamic symbol table's
        // size is only in the section headers.
        let Some(count) = self.dynsym_count(syment) else { return SelfReference::Unknown };
        let defined = (0..count)
            .filter_map(|i| u32::try_from(i).ok())
            .filter_map(symbol)
            .any(|(sym, shndx)| sym == name && shndx != SHN_UNDEF);
        if defined {
            SelfReference::BoundInside
        } else {
            SelfReference::NotDefined
        }
    }

    fn dynsym_count(&self, syment: usize) -> Option<usize> {
        let shoff = usize_of(u64_at(&self.data, 40).ok()?).ok()?;
        let shentsize = usize::from(u16_at(&self.data, 58).ok()?);
        let shnum = usize::from(u16_at(&self.data, 60).ok()?);
        if shoff == 0 || shentsize < 64 || syment == 0 {
            return None;
        }
        for i in 0..shnum {
            let at = shoff.checked_add(i * shentsize)?;
            if u32_at(&self.data, at.saturating_add(4)).ok()? == SHT_DYNSYM {
                let size = usize_of(u64_at(&self.data, at.saturating_add(32)).ok()?).ok()?;
                return Some(size / syment);
            }
        }
        None
    }
}

fn vaddr_to_offset(segments: &[Segment], vaddr: u64) -> Result<usize, String> {
    segments
        .iter()
        .filter(|s| s.kind == PT_LOAD)
        .find(|s| vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz)
        .ok_or_else(|| format!("address {vaddr:#x} is in no loaded segment"))
        .and_then(|s| usize_of(s.offset.checked_add(vaddr - s.vaddr).ok_or("offset out of range")?))
}

fn read_dynamic(data: &[u8], segments: &[Segment], seg: &Segment) -> Result<Dynamic, String> {
    let start = usize_of(seg.offset)?;
    let count = usize_of(seg.filesz)? / 16;
    let mut entries = Vec::new();
    for i in 0..count {
        let tag = u64_at(data, start.saturating_add(16 * i))? as i64;
        let value = u64_at(data, start.saturating_add(16 * i + 8))?;
        if tag == DT_NULL {
            break;
        }
        entries.push((tag, value));
    }
    let get = |tag: i64| entries.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v);
    let mut dynamic = Dynamic {
        symbolic: get(DT_SYMBOLIC).is_some() || get(DT_FLAGS).is_some_and(|f| f & DF_SYMBOLIC != 0),
        ..Dynamic::default()
    };
    if let (Some(strtab), Some(strsz)) = (get(DT_STRTAB), get(DT_STRSZ)) {
        let strtab = vaddr_to_offset(segments, strtab)?;
        let strsz = usize_of(strsz)?;
        dynamic.strtab = Some((strtab, strsz));
        let string = |v: u64| -> Result<String, String> {
            let at = usize_of(v)?;
            c_string(data, strtab.checked_add(at).ok_or("string out of range")?, strsz.saturating_sub(at))
        };
        for &(tag, value) in &entries {
            match tag {
                DT_NEEDED => dynamic.needed.push(string(value)?),
                DT_SONAME => dynamic.soname = Some(string(value)?),
                DT_RPATH => dynamic.rpath = Some(string(value)?),
                DT_RUNPATH => dynamic.runpath = Some(string(value)?),
                _ => {}
            }
        }
    }
    if let Some(symtab) = get(DT_SYMTAB) {
        dynamic.symtab = Some((vaddr_to_offset(segments, symtab)?, usize_of(get(DT_SYMENT).unwrap_or(24))?));
    }
    // Every table of dynamic relocations: RELA and REL, and the PLT's (either kind).
    let plt_entry = match get(DT_PLTREL) {
        Some(v) if v as i64 == DT_REL => 16,
        _ => 24,
    };
    for (table, size, entsize) in [
        (DT_RELA, get(DT_RELASZ), get(DT_RELAENT).unwrap_or(24)),
        (DT_REL, get(DT_RELSZ), get(DT_RELENT).unwrap_or(16)),
        (DT_JMPREL, get(DT_PLTRELSZ), plt_entry),
    ] {
        let (Some(addr), Some(size)) = (get(table), size) else { continue };
        let entsize = usize_of(entsize)?;
        if entsize < 16 {
            return Err("relocation entries too small".into());
        }
        let at = vaddr_to_offset(segments, addr)?;
        for i in 0..usize_of(size)? / entsize {
            let info = u64_at(data, at.saturating_add(i * entsize + 8))?;
            let symbol = (info >> 32) as u32;
            if symbol != 0 {
                dynamic.reloc_symbols.push(symbol);
            }
        }
    }
    dynamic.reloc_symbols.sort_unstable();
    dynamic.reloc_symbols.dedup();
    Ok(dynamic)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test binary itself: a 64-bit ELF executable with an interpreter and libc.
    #[test]
    fn reads_this_test_binary() {
        let elf = Elf::read(&std::env::current_exe().unwrap()).unwrap();
        assert!(elf.interp.as_deref().is_some_and(|i| i.contains("ld-linux")), "{:?}", elf.interp);
        let dynamic = elf.dynamic.as_ref().expect("a dynamic section");
        assert!(dynamic.needed.iter().any(|n| n.starts_with("libc.so")), "{:?}", dynamic.needed);
        assert!(!dynamic.symbolic);
    }

    #[test]
    fn rejects_what_is_not_a_64_bit_elf_file() {
        assert!(Elf::parse(b"#!/bin/sh\n".to_vec()).is_err());
        assert!(Elf::parse(b"\x7fELF\x01\x01".to_vec()).is_err());
        assert!(Elf::parse(Vec::new()).is_err());
    }

    #[test]
    fn truncated_files_are_errors_not_panics() {
        let full = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        for len in [6, 20, 63, 64, 100, 1000, 4096] {
            let _ = Elf::parse(full[..len.min(full.len())].to_vec());
        }
        // Headers pointing past the end.
        let mut bad = full[..64].to_vec();
        bad[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        bad[56] = 3;
        assert!(Elf::parse(bad).is_err());
    }
}
