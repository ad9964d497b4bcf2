#[derive(Clone, Copy, chakra::Enum)]
enum Shape {
    Dot,
    Line(u32),
}

#[derive(Clone, Copy, chakra::Enum)]
enum Status {
    Open,
    #[chakra(value = "open")]
    Reopened,
}

#[derive(Clone, Copy, chakra::Enum)]
enum Level {
    #[chakra(label = "x")]
    Low,
}

fn main() {}
