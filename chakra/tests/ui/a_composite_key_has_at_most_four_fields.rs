use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "cells")]
pub struct Cell {
    #[chakra(primary_key)]
    pub a: i64,
    #[chakra(primary_key)]
    pub b: i64,
    #[chakra(primary_key)]
    pub c: i64,
    #[chakra(primary_key)]
    pub d: i64,
    #[chakra(primary_key)]
    pub e: i64,
}

fn main() {}
