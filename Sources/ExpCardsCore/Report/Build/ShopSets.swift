import Glibc

/// The sets of shops aliases are listed in, numbered (0: no shop): an alias holds a set's number,
/// not an array of its own.
struct ShopSets {
    /// Shop numbers of each set, ascending.
    private(set) var sets: [[Int]] = [[]]
    private var ids: [[Int]: Int] = [[]: 0]
    private var singletons: [Int] = []
    private var added: [UInt64: Int] = [:]

    mutating func singleton(_ shop: Int) -> Int {
        while singletons.count <= shop { singletons.append(-1) }
        if singletons[shop] < 0 { singletons[shop] = id(of: [shop]) }
        return singletons[shop]
    }

    /// The set `set` ∪ {shop}.
    mutating func adding(_ shop: Int, to set: Int) -> Int {
        if set == 0 { return singleton(shop) }
        if shop < singletons.count, singletons[shop] == set { return set }
        let key = UInt64(set) << 32 | UInt64(shop)
        if let known = added[key] { return known }
        var members = sets[set]
        if !members.contains(shop) {
            members.append(shop)
            members.sort()
        }
        let result = id(of: members)
        added[key] = result
        return result
    }

    private mutating func id(of members: [Int]) -> Int {
        if let known = ids[members] { return known }
        sets.append(members)
        ids[members] = sets.count - 1
        return sets.count - 1
    }
}
