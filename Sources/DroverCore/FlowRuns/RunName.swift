/// Flow run names in Prefect's style: an adjective and an animal joined by a hyphen, such
/// as `archetypal-crayfish` or `stoic-heron`.
///
/// Both word lists hold only single lowercase ASCII words, so every name matches
/// `^[a-z]+-[a-z]+$` and is a valid `ResourceName`. Names are for people to tell runs
/// apart at a glance; they are not unique (the run's id is).
public enum RunName {
    /// Makes a name, choosing both words with `random`: the same generator state gives the
    /// same name.
    public static func make(using random: inout some RandomNumberGenerator) -> String {
        let adjective = adjectives.randomElement(using: &random)!
        let animal = animals.randomElement(using: &random)!
        return "\(adjective)-\(animal)"
    }

    /// Makes a name with the system's random numbers.
    public static func make() -> String {
        var random = SystemRandomNumberGenerator()
        return make(using: &random)
    }

    /// The first words of names: friendly adjectives, sorted, without repeats.
    public static let adjectives: [String] = [
        "able", "adamant", "adept", "adorable", "adventurous", "agile", "airy", "amazing", "amber",
        "ambitious", "amiable", "amusing", "ancient", "angelic", "animated", "aquatic", "arcane", "archetypal",
        "ardent", "artful", "astute", "athletic", "auburn", "august", "auspicious", "authentic", "autumnal",
        "avid", "azure", "balmy", "beaming", "benevolent", "blazing", "blissful", "bold", "bouncy", "brave",
        "breezy", "bright", "brilliant", "brisk", "bronze", "bubbly", "buoyant", "busy", "calm", "candid",
        "capable", "carefree", "careful", "celestial", "charming", "cheerful", "cherry", "chipper",
        "chivalrous", "classic", "clever", "cobalt", "colorful", "comfy", "cosmic", "courageous", "courteous",
        "cozy", "crafty", "crimson", "crisp", "cunning", "curious", "dainty", "dapper", "daring", "dashing",
        "dazzling", "debonair", "decent", "deft", "delightful", "devoted", "diligent", "discreet", "dreamy",
        "dynamic", "eager", "earnest", "easygoing", "eccentric", "elated", "electric", "elegant", "eloquent",
        "emerald", "enchanted", "energetic", "epic", "ethereal", "exuberant", "fabulous", "fair", "faithful",
        "fancy", "fearless", "festive", "fiery", "flawless", "fluent", "fluffy", "focused", "fortunate",
        "fragrant", "frank", "fresh", "friendly", "frosty", "frugal", "funky", "futuristic", "gallant",
        "generous", "gentle", "genuine", "giant", "gifted", "gleaming", "glorious", "glossy", "golden",
        "graceful", "gracious", "grand", "grateful", "gregarious", "groovy", "handsome", "happy", "hardy",
        "harmonious", "hearty", "helpful", "heroic", "honest", "hopeful", "humble", "icy", "idealistic",
        "illustrious", "imaginative", "immense", "impartial", "impressive", "indigo", "industrious",
        "ingenious", "inquisitive", "intrepid", "inventive", "jazzy", "jolly", "jovial", "joyful", "jubilant",
        "keen", "kind", "kindly", "laughing", "lavish", "lively", "logical", "lovely", "loyal", "lucid",
        "lucky", "luminous", "lunar", "lush", "magenta", "magnetic", "magnificent", "majestic", "mellow",
        "merry", "meticulous", "mighty", "mindful", "minty", "modest", "mystic", "neat", "nimble", "noble",
        "nocturnal", "nostalgic", "observant", "ochre", "optimistic", "opulent", "organic", "outgoing",
        "passionate", "patient", "peaceful", "pearly", "peppy", "perky", "persistent", "petite", "placid",
        "playful", "pleasant", "plucky", "poetic", "polished", "polite", "practical", "precious", "pristine",
        "prudent", "punctual", "quaint", "quick", "quiet", "quirky", "radiant", "rapid", "rational", "refined",
        "reliable", "remarkable", "resilient", "resolute", "resourceful", "robust", "rosy", "royal", "rugged",
        "rustic", "sandy", "sapphire", "savvy", "scarlet", "serene", "shiny", "silent", "silky", "silver",
        "sincere", "skilled", "sleek", "smart", "smiling", "snappy", "snowy", "solar", "solid", "sparkling",
        "speedy", "spirited", "splendid", "spotless", "steadfast", "stellar", "stoic", "striped", "sturdy",
        "stylish", "sublime", "sunny", "superb", "swift", "tactful", "tenacious", "tender", "thankful",
        "thoughtful", "thrifty", "tidy", "tireless", "tranquil", "tropical", "trusty", "turquoise", "upbeat",
        "valiant", "velvet", "vibrant", "vigilant", "vigorous", "violet", "vivid", "warm", "whimsical",
        "willing", "wise", "witty", "wonderful", "woolly", "zealous", "zesty",
    ]

    /// The second words of names: animals, sorted, without repeats.
    public static let animals: [String] = [
        "aardvark", "albatross", "alligator", "alpaca", "anaconda", "angelfish", "ant", "anteater", "antelope",
        "armadillo", "axolotl", "baboon", "badger", "barracuda", "bat", "beagle", "bear", "beaver", "bee",
        "beetle", "bison", "bittern", "blackbird", "bluebird", "boar", "bobcat", "bonobo", "buffalo",
        "bulldog", "bumblebee", "butterfly", "buzzard", "camel", "canary", "capybara", "cardinal", "caribou",
        "carp", "cassowary", "cat", "caterpillar", "catfish", "chameleon", "cheetah", "chickadee", "chicken",
        "chimpanzee", "chinchilla", "chipmunk", "cicada", "clam", "cobra", "cockatoo", "condor", "coral",
        "cormorant", "cougar", "cow", "coyote", "crab", "crane", "crayfish", "cricket", "crocodile", "crow",
        "cuckoo", "curlew", "dachshund", "deer", "dingo", "dolphin", "donkey", "dove", "dragonfly", "duck",
        "dugong", "eagle", "earthworm", "eel", "egret", "eland", "elephant", "elk", "emu", "falcon", "ferret",
        "finch", "firefly", "flamingo", "flounder", "fox", "frog", "gazelle", "gecko", "gerbil", "gibbon",
        "giraffe", "gnu", "goat", "goldfinch", "goldfish", "goose", "gopher", "gorilla", "grasshopper",
        "grebe", "grouse", "gull", "guppy", "hamster", "hare", "harrier", "hawk", "hedgehog", "heron",
        "herring", "hippo", "hornet", "horse", "hound", "hummingbird", "husky", "hyena", "ibex", "ibis",
        "iguana", "impala", "jackal", "jaguar", "jellyfish", "kangaroo", "kestrel", "kingfisher", "kiwi",
        "koala", "koi", "kookaburra", "ladybug", "lark", "lemming", "lemur", "leopard", "limpet", "lion",
        "lizard", "llama", "lobster", "locust", "loon", "lynx", "macaw", "magpie", "mallard", "manatee",
        "mandrill", "mantis", "marlin", "marmot", "marten", "meerkat", "mink", "mole", "mongoose", "moose",
        "moth", "mouse", "mule", "narwhal", "newt", "nightingale", "ocelot", "octopus", "okapi", "opossum",
        "orca", "oriole", "oryx", "osprey", "ostrich", "otter", "owl", "ox", "oyster", "panda", "panther",
        "parakeet", "parrot", "partridge", "peacock", "pelican", "penguin", "pheasant", "pigeon", "pika",
        "piranha", "platypus", "plover", "pony", "poodle", "porcupine", "porpoise", "puffin", "puma", "python",
        "quail", "quetzal", "quokka", "rabbit", "raccoon", "ram", "raven", "reindeer", "rhino", "robin",
        "salamander", "salmon", "sandpiper", "sardine", "scorpion", "seahorse", "seal", "shark", "sheep",
        "shrew", "shrimp", "skink", "skunk", "sloth", "snail", "snake", "sparrow", "spider", "squid",
        "squirrel", "starfish", "starling", "stingray", "stoat", "stork", "sturgeon", "swallow", "swan",
        "tapir", "tarantula", "termite", "tern", "tiger", "toad", "tortoise", "toucan", "trout", "tuna",
        "turkey", "turtle", "urchin", "viper", "vole", "vulture", "wallaby", "walrus", "warbler", "wasp",
        "weasel", "whale", "wildcat", "wolf", "wolverine", "wombat", "woodpecker", "wren", "yak", "zebra",
    ]
}
